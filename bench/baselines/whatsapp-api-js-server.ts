// Peer: whatsapp-api-js (npm, zero dependencies) handling the webhook with its own node:http
// middleware — signature check with WebCrypto, parse, dispatch to an on.message handler. It stores
// nothing, so it shows what a popular library costs per request, not a durable floor.
import { createServer } from 'node:http';
import { WhatsAppAPI } from 'whatsapp-api-js/middleware/node-http';

const port = Number(process.env.PORT ?? 0);
const whatsapp = new WhatsAppAPI({
  token: 'unused-no-outbound-calls',
  appSecret: process.env.APP_SECRET ?? '',
  webhookVerifyToken: 'unused',
  secure: true,
});
let messages = 0;
whatsapp.on.message = () => {
  messages += 1;
};
whatsapp.on.status = () => undefined;

createServer(async (req, res) => {
  if (req.method === 'POST') {
    res.statusCode = await whatsapp.handle_post(req);
    res.end();
    return;
  }
  res.end(String(messages));
}).listen(port, '127.0.0.1');
