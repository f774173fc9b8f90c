// Response bodies in tests are arbitrary JSON that assertions walk freely.
// biome-ignore lint/suspicious/noExplicitAny: assertions check the shape at run time.
export type Json = any;

export function json(res: Response): Promise<Json> {
  return res.json() as Promise<Json>;
}
