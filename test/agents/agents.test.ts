// The lookups the runtime uses: agent by uuid, the agent owning a channel, its active attachment.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentForPhoneNumber, findAgentByUuid, newUuid } from '../../src/agents/agents.js';
import { activeAttachment } from '../../src/agents/attachments.js';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

describe('agent lookups for the runtime', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ memory: true });
  });
  afterEach(async () => {
    await t.close();
  });

  const createAgent = async (name: string, phone_number_id?: string) =>
    json(await t.request('/api/agents', { body: { name, phone_number_id } }));
  const install = (agentUuid: string, installMode: string) =>
    t.request('/api/marketplace/extensions/install', { body: { offerId: 1, agentUuid, installMode } });

  it('finds an agent by uuid in any letter case, and nothing for an unknown one', async () => {
    const a = await createAgent('A');
    expect((await findAgentByUuid(t.deps.db, a.uuid.toUpperCase()))?.id).toBe(a.id);
    expect(
      await findAgentByUuid(
        t.deps.db,
        newUuid(() => new Uint8Array(16)),
      ),
    ).toBeUndefined();
  });

  it('finds the agent that owns a channel', async () => {
    const a = await createAgent('A', '106540352242922');
    await createAgent('B', 'sandbox');
    expect((await agentForPhoneNumber(t.deps.db, '106540352242922'))?.id).toBe(a.id);
    expect(await agentForPhoneNumber(t.deps.db, '999')).toBeUndefined();
  });

  it('reports an active attachment only once one is active', async () => {
    const a = await createAgent('A');
    const b = await createAgent('B');
    expect(await activeAttachment(t.deps.db, a.id)).toBeUndefined();
    await install(a.uuid, 'trial');
    await install(b.uuid, 'queued');
    expect(await activeAttachment(t.deps.db, a.id)).toMatchObject({ agent_id: a.id, status: 'active' });
    expect(await activeAttachment(t.deps.db, b.id)).toBeUndefined();
  });

  it('makes version-4 uuids from the injected random source', () => {
    expect(newUuid(() => new Uint8Array(16).fill(0xff))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(newUuid(() => new Uint8Array(16))).toBe('00000000-0000-4000-8000-000000000000');
  });
});
