import type { Clock } from '../../../src/core/clock.ts';
import { TallyError } from '../../../src/core/errors.ts';
import type { Quote, RateProvider } from '../../../src/rates/rate-provider.ts';

/** A provider whose next answer the test decides; counts calls so tests can prove who was asked. */
export class ScriptedProvider implements RateProvider {
  calls: string[] = [];
  private next: (base: string, quote: string) => Quote;

  constructor(
    readonly name: string,
    private readonly clock: Clock,
    value = '65000',
  ) {
    this.next = (base, quote) => this.quote(base, quote, value);
  }

  /** Answer `value`, stamped `ageMs` before the clock's now (negative = from the future). */
  answers(value: string, ageMs = 0): this {
    this.next = (base, quote) => this.quote(base, quote, value, ageMs);
    return this;
  }

  answersWith(make: (base: string, quote: string) => Quote): this {
    this.next = make;
    return this;
  }

  fails(reason: string): this {
    this.next = () => {
      throw new TallyError('rate_unavailable', `${this.name}: ${reason}`, { source: this.name, reason });
    };
    return this;
  }

  throws(error: Error): this {
    this.next = () => {
      throw error;
    };
    return this;
  }

  async getQuote(base: string, quote: string): Promise<Quote> {
    this.calls.push(`${base}/${quote}`);
    return this.next(base, quote);
  }

  private quote(base: string, quote: string, value: string, ageMs = 0): Quote {
    return { base, quote, value, source: this.name, fetchedAt: new Date(this.clock.now().getTime() - ageMs) };
  }
}
