/**
 * For a describe block that compares answers with libtpms: `before` checks the interop
 * prerequisites, starts real swtpm and connects a raw data client; `after` takes both down.
 */
import { requireInteropTools } from './interop-prereqs.js';
import { SwtpmDataClient } from './raw-client.js';
import { startSwtpm, type SwtpmServer } from './swtpm.js';

export function useSwtpmClient(pcrBanks: string[]): () => SwtpmDataClient {
  let swtpm: SwtpmServer | undefined;
  let client: SwtpmDataClient | undefined;
  before(async function () {
    await requireInteropTools(this);
    swtpm = await startSwtpm({ pcrBanks });
    client = await SwtpmDataClient.connect(swtpm.port);
  });
  after(async () => {
    client?.close();
    await swtpm?.stop();
  });
  return () => {
    if (!client) throw new Error('swtpm setup failed');
    return client;
  };
}
