import { validationError } from './errors.ts';

/**
 * A time from a query parameter. The schema's date-time format admits what a Date cannot hold (a
 * leap second, 23:59:60): that is a 422 naming the parameter, not a 500 from toISOString later.
 */
export function queryTime(value: string, name: string): Date {
  const at = new Date(value);
  if (Number.isNaN(at.getTime()))
    throw validationError([{ path: `querystring.${name}`, message: 'is not a valid time' }]);
  return at;
}
