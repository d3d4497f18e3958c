// One load phase: autocannon (programmatic API) with its connections spread round-robin over the
// three instances of a variant, each request for /products/<id> with the id from the variant's
// Zipf key stream. Latencies are recorded here from autocannon's per-response event (a float in
// ms) rather than from its histogram, which records whole milliseconds: a cached read takes less.
import autocannon from 'autocannon';

/** Response times (ms) of successful requests, appended across phases. */
export class Latencies {
  values = new Float64Array(1 << 16);
  length = 0;

  add(ms) {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = ms;
  }

  /** Percentiles (0..100), nearest rank. */
  percentiles(...ps) {
    const sorted = this.values.slice(0, this.length).sort();
    return ps.map((p) =>
      sorted.length === 0
        ? NaN
        : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)],
    );
  }
}

/**
 * Runs one phase of `seconds` with `connections` keep-alive connections (one request in flight on
 * each) spread over `urls`. Successful response times are added to `latencies`.
 * @param {{ urls: string[], connections: number, seconds: number, nextId: () => number,
 *   latencies?: Latencies }} options
 * @returns {Promise<{ ok: number, failed: number, seconds: number }>}
 */
export function runLoad({ urls, connections, seconds, nextId, latencies = new Latencies() }) {
  let ok = 0;
  let failed = 0;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const instance = autocannon(
      {
        url: urls,
        connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
        // autocannon stops at the first sample tick after `duration`: tick often, so phases end on time.
        sampleInt: 100,
        requests: [
          {
            method: 'GET',
            setupRequest(request) {
              request.path = `/products/${nextId()}`;
              return request;
            },
          },
        ],
      },
      (error) => {
        if (error !== null && error !== undefined) reject(error);
        else resolve({ ok, failed, seconds: (performance.now() - started) / 1e3 });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode === 200) {
        ok += 1;
        latencies.add(responseTime);
      } else failed += 1;
    });
    instance.on('reqError', () => {
      failed += 1;
    });
  });
}
