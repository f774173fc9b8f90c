// Signed webhook deliveries for load: one inbound text message each, with its own wamid, serialised
// the way Meta does (\uXXXX, \/) and signed with X-Hub-Signature-256. Distinct wamids make the
// daemon do the full work for each (no dedup shortcut) until the list wraps around.
import { toMetaJson } from '../../src/webhook/meta-json.js';
import { signBody } from '../../src/webhook/signature.js';
import type { LoadRequest } from './load-generator.js';

export const BENCH_APP_SECRET = 'bench_app_secret_0123456789abcdef';
export const WEBHOOK_PATH = '/webhooks/whatsapp';

export function signedDeliveries(count: number, secret = BENCH_APP_SECRET): LoadRequest[] {
  const out: LoadRequest[] = [];
  // Message times just before now: the daemon treats a timestamp more than 30 days old as an item error
  // (SPEC §9a) and would store such a message without its effects, which is not the work to measure.
  const firstTimestamp = Math.floor(Date.now() / 1000) - 3600;
  for (let i = 0; i < count; i++) {
    const customer = String(4917000000000 + (i % 5000));
    const wamid = `wamid.${Buffer.from(`bench-${i}-${customer}`).toString('base64')}`;
    const delivery = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
                contacts: [{ profile: { name: `Kundin ${i} Müller` }, wa_id: customer }],
                messages: [
                  {
                    from: customer,
                    id: wamid,
                    timestamp: String(firstTimestamp + (i % 3600)),
                    text: {
                      body: `Hallo, ist meine Bestellung #${100000 + i} schon unterwegs? https://example.com/o/${i}`,
                    },
                    type: 'text',
                  },
                ],
              },
              field: 'messages',
            },
          ],
        },
      ],
    };
    const body = toMetaJson(delivery);
    out.push({
      method: 'POST',
      path: WEBHOOK_PATH,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, secret) },
      body,
      key: wamid,
    });
  }
  return out;
}
