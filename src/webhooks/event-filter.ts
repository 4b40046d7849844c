/** An endpoint's `event_types` is a JSON array of exact types, or ["*"] for every type. */
export function endpointWants(endpoint: { event_types: string }, type: string): boolean {
  const types = JSON.parse(endpoint.event_types) as string[];
  return types.includes('*') || types.includes(type);
}
