/**
 * Where exchange rates come from. A provider answers one question: how many units of `quote`
 * (e.g. USD) one unit of `base` (e.g. BTC) costs, as an exact decimal string, and when the source
 * said so. Providers throw TallyError('rate_unavailable') on any failure; they never guess.
 */
export interface Quote {
  base: string;
  quote: string;
  /** Decimal string, e.g. "65012.5"; never a JS number. */
  value: string;
  source: string;
  /** When the source produced the price (or, if it does not say, when we received it). */
  fetchedAt: Date;
}

export interface RateProvider {
  readonly name: string;
  getQuote(base: string, quote: string, signal?: AbortSignal): Promise<Quote>;
}
