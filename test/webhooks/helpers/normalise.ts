/**
 * Makes an event payload stable for a snapshot without hiding what it says: every id becomes its
 * prefix and the order it first appeared in (`inv_1`, `pay_2` …), so a snapshot still shows that
 * `data.exception.payment_id` IS `data.payment.id`; every time becomes its offset from the
 * harness's start (`T0+15m`), which a ManualClock makes deterministic and which still shows e.g.
 * that an invoice expires 15 minutes after creation; addresses and 64-hex hashes are numbered too.
 */
export function normaliser(t0: Date): (value: unknown) => unknown {
  const seen = new Map<string, string>();
  const label = (raw: string, kind: string) => {
    let out = seen.get(raw);
    if (!out) {
      out = `${kind}_${seen.size + 1}`;
      seen.set(raw, out);
    }
    return out;
  };
  const offset = (iso: string) => {
    const s = Math.round((Date.parse(iso) - t0.getTime()) / 1000);
    const sign = s < 0 ? '-' : '+';
    const abs = Math.abs(s);
    const text =
      abs % 86_400 === 0 && abs > 0
        ? `${abs / 86_400}d`
        : abs % 60 === 0 && abs > 0
          ? `${abs / 60}m`
          : `${abs}s`;
    return `T0${sign}${text}`;
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    if (typeof v !== 'string') return v;
    let m = /^([a-z]{3})_[0-9a-z]{26}$/.exec(v);
    if (m) return label(v, m[1] as string);
    if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v)) return offset(v);
    if (/^[0-9a-f]{64}$/.test(v)) return label(v, 'hex');
    m = /^(bcrt1|0x)[0-9a-zA-Z]{20,}$/.exec(v);
    if (m) return label(v, 'address');
    // Text that embeds an address (a payment URI) or a test receiver's random port.
    return v
      .replace(/bcrt1[0-9a-z]{20,}/g, (a) => label(a, 'address'))
      .replace(/^(https?:\/\/127\.0\.0\.1):\d+/, '$1:<port>');
  };
  return walk;
}
