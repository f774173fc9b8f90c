// One signed POST to a subscriber (SPEC §11): JSON body, Standard Webhooks headers, a hard timeout,
// redirects not followed (a 3xx is a failed attempt), and the answer's body never read (a subscriber
// answering with garbage or a huge body costs nothing). Never throws: the outcome says what happened.
export interface PostOutcome {
  /** The HTTP status, or null when no answer came (refused, DNS, timeout, reset). */
  status: number | null;
  ok: boolean;
  latency_ms: number;
  error: string | null;
}

export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostOutcome> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'native-whatsapp-webhooks/1', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The body is not ours to read; cancelling frees the connection at once.
    await res.body?.cancel().catch(() => undefined);
    const ok = res.status >= 200 && res.status < 300;
    return {
      status: res.status,
      ok,
      latency_ms: latency(),
      error: ok
        ? null
        : res.status >= 300 && res.status < 400
          ? 'redirect not followed'
          : `HTTP ${res.status}`,
    };
  } catch (err) {
    return { status: null, ok: false, latency_ms: latency(), error: describe(err) };
  }
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  const code = e.cause?.code;
  return code
    ? `connection failed (${code})`
    : `request failed (${e.cause?.message ?? e.message ?? 'unknown'})`;
}
