// Without the optional Kafka package, choosing the kafka transport says how to install it.
import { describe, expect, it } from 'vitest';
import { KAFKA_INSTALL_HINT, loadKafka } from './kafka-client.js';

describe('loadKafka', () => {
  it('names the apt packages and the CKJS_LINKING=dynamic install when the package is missing', async () => {
    const err = await loadKafka('@confluentinc/not-installed-here').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(KAFKA_INSTALL_HINT);
    expect(KAFKA_INSTALL_HINT).toContain(
      'apt-get install -y libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev',
    );
    expect(KAFKA_INSTALL_HINT).toContain(
      'CKJS_LINKING=dynamic npm install --save-optional @confluentinc/kafka-javascript',
    );
  });
});
