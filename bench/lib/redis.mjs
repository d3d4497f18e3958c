// Redis housekeeping shared by the scenarios that use the local Redis as a reference.
import Redis from 'ioredis';

/** Deletes every key under `prefix` (SCAN + DEL), so a run leaves nothing behind, even after a crash. */
export async function deleteKeysByPrefix({ host, port }, prefix) {
  const redis = new Redis({ host, port, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (found.length > 0) await redis.del(...found);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
