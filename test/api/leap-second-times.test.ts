import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * RFC 3339 (and so the schemas' date-time format) admits a leap second, 23:59:60, which a
 * JavaScript Date cannot hold. A time filter that has one is a 422 naming that parameter, as the
 * replay route answers an invalid `since`: never a 500, never an error that blames another field.
 */
const LEAP = '2026-06-30T23:59:60Z';

for (const { name, fresh } of DATABASES) {
  describe(`leap-second times in query filters (${name})`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness(await fresh());
    });
    afterAll(async () => h?.close());

    const refusal = async (url: string) => {
      const res = await h.request('GET', url);
      expect(res.status, url).toBe(422);
      expect(res.body.error.code, url).toBe('validation_failed');
      return res.body.error.details.issues as Array<{ path: string; message: string }>;
    };

    it('GET /v1/events refuses one in created_gte or created_lt, naming it', async () => {
      expect(await refusal(`/v1/events?created_gte=${LEAP}`)).toEqual([
        { path: 'querystring.created_gte', message: 'is not a valid time' },
      ]);
      expect(await refusal(`/v1/events?created_lt=${LEAP}`)).toEqual([
        { path: 'querystring.created_lt', message: 'is not a valid time' },
      ]);
      // An ordinary second still filters.
      const ok = await h.request('GET', '/v1/events?created_gte=2026-06-30T23:59:59Z');
      expect(ok.status).toBe(200);
    });

    it('GET /v1/settlement/report refuses one in from or to, naming that bound', async () => {
      expect(await refusal(`/v1/settlement/report?from=${LEAP}&to=2026-07-31T00:00:00Z`)).toEqual([
        { path: 'querystring.from', message: 'is not a valid time' },
      ]);
      expect(await refusal(`/v1/settlement/report?from=2026-06-01T00:00:00Z&to=${LEAP}`)).toEqual([
        { path: 'querystring.to', message: 'is not a valid time' },
      ]);
      const ok = await h.request(
        'GET',
        '/v1/settlement/report?from=2026-06-01T00:00:00Z&to=2026-07-01T00:00:00Z',
      );
      expect(ok.status).toBe(200);
    });
  });
}
