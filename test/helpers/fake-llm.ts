// A fake chat-completions server (Ollama / vLLM / OpenAI shape): a real HTTP server on 127.0.0.1:0
// that records each request and answers as scripted: a normal completion, an HTTP error, a body that
// is not JSON, a completion without choices, or no answer at all (to test timeouts). Used by the
// openai-compatible responder tests and any wiring test that needs an AI reply.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type LlmBehaviour =
  | { reply: string }
  | { status: number; body?: string }
  | { raw: string; contentType?: string }
  /** Holds the request open without answering until the server closes. */
  | { hang: true };

export interface LlmRequest {
  path: string;
  authorization: string | undefined;
  body: { model?: string; messages?: { role: string; content: string }[]; [k: string]: unknown };
}

export interface FakeLlm {
  /** Base URL including /v1, as an operator would configure it. */
  baseUrl: string;
  requests: LlmRequest[];
  /** What every following call gets. */
  respond(behaviour: LlmBehaviour): void;
  close(): Promise<void>;
}

export function completion(content: unknown): string {
  return JSON.stringify({
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1767600000,
    model: 'test-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  });
}

export async function startFakeLlm(): Promise<FakeLlm> {
  const requests: LlmRequest[] = [];
  let behaviour: LlmBehaviour = { reply: 'Hello from the model' };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: LlmRequest['body'] = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        // recorded as empty
      }
      requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
      const b = behaviour;
      if ('hang' in b) return;
      if ('reply' in b) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(completion(b.reply));
      } else if ('status' in b) {
        res.writeHead(b.status, { 'content-type': 'application/json' }).end(b.body ?? '{"error":"boom"}');
      } else {
        res.writeHead(200, { 'content-type': b.contentType ?? 'application/json' }).end(b.raw);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    respond(next) {
      behaviour = next;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
