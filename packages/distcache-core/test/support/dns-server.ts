// A real DNS server for discovery tests: dns2's UDP server on 127.0.0.1 (a free port picked by the
// OS), answering A, AAAA and SRV queries from records a test changes at runtime.
import dns2, { type Packet, type Resource, type UDPServer } from 'dns2';

/** An SRV record as the test sets it. */
export interface TestSrvRecord {
  readonly target: string;
  readonly port: number;
  readonly priority?: number;
  readonly weight?: number;
}

/**
 * How the server answers: `'answer'` from its records, `'silent'` never (the client times out),
 * `'servfail'` / `'refused'` with that response code.
 */
export type TestDnsMode = 'answer' | 'silent' | 'servfail' | 'refused';

interface Records {
  a: string[];
  aaaa: string[];
  srv: TestSrvRecord[];
}

const { Packet: PacketClass } = dns2;
// Response codes (RFC 1035 4.1.1); dns2's typings do not declare its RCODE table.
const RCODE = { SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
const normalise = (name: string): string => name.toLowerCase().replace(/\.$/, '');

export class TestDnsServer {
  /** How the server answers; change it at any time. */
  mode: TestDnsMode = 'answer';
  /** Question types (`'A'`, `'AAAA'`, `'SRV'`) never answered, whatever the mode. */
  readonly silentFor = new Set<string>();
  /** Every question received, in order (`"A cache.svc.local"`), whatever the mode. */
  readonly queries: string[] = [];
  private readonly records = new Map<string, Records>();
  private stopped = false;

  private constructor(
    private readonly socket: UDPServer,
    /** The port the server listens on (UDP, 127.0.0.1). */
    readonly port: number,
  ) {}

  /** Starts a server on 127.0.0.1 with a port picked by the OS. */
  static async start(): Promise<TestDnsServer> {
    const socket = dns2.createUDPServer();
    await socket.listen(0, '127.0.0.1');
    const server = new TestDnsServer(socket, socket.address().port);
    socket.on('request', (request, send) => server.answer(request, send));
    return server;
  }

  /** `"127.0.0.1:port"`, for the `servers` option. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Replaces the A records of `name` (an empty list removes them). */
  setA(name: string, addresses: readonly string[]): this {
    this.entry(name).a = [...addresses];
    return this;
  }

  /** Replaces the AAAA records of `name` (an empty list removes them). */
  setAAAA(name: string, addresses: readonly string[]): this {
    this.entry(name).aaaa = [...addresses];
    return this;
  }

  /** Replaces the SRV records of `name` (an empty list removes them). */
  setSrv(name: string, records: readonly TestSrvRecord[]): this {
    this.entry(name).srv = [...records];
    return this;
  }

  /** Removes every record of `name`: it then answers NXDOMAIN. */
  remove(name: string): this {
    this.records.delete(normalise(name));
    return this;
  }

  /** Closes the socket: queries then meet a closed port. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private entry(name: string): Records {
    const key = normalise(name);
    let entry = this.records.get(key);
    if (entry === undefined) {
      entry = { a: [], aaaa: [], srv: [] };
      this.records.set(key, entry);
    }
    return entry;
  }

  private answer(request: Packet, send: (response: Packet) => Promise<Buffer>): void {
    const question = request.questions[0];
    if (question === undefined) return;
    const type = typeName(question.type);
    this.queries.push(`${type} ${question.name}`);
    if (this.mode === 'silent' || this.silentFor.has(type)) return;
    const response = PacketClass.createResponseFromRequest(request);
    response.header.aa = 1;
    const entry = this.records.get(normalise(question.name));
    if (this.mode === 'servfail' || this.mode === 'refused') {
      response.header.rcode = this.mode === 'servfail' ? RCODE.SERVFAIL : RCODE.REFUSED;
    } else if (entry === undefined || entry.a.length + entry.aaaa.length + entry.srv.length === 0) {
      response.header.rcode = RCODE.NXDOMAIN;
    } else {
      // TTL 0: nothing may cache an answer the test is about to change.
      const base = { class: PacketClass.CLASS.IN, ttl: 0 };
      const resource = (record: Partial<Resource>) =>
        PacketClass.createResourceFromQuestion(question, { ...base, ...record });
      switch (question.type) {
        case PacketClass.TYPE.A:
          for (const address of entry.a) response.answers.push(resource({ type: question.type, address }));
          break;
        case PacketClass.TYPE.AAAA:
          for (const address of entry.aaaa) response.answers.push(resource({ type: question.type, address }));
          break;
        case PacketClass.TYPE.SRV:
          for (const { target, port, priority = 0, weight = 0 } of entry.srv) {
            response.answers.push(resource({ type: question.type, target, port, priority, weight }));
          }
          break;
        default:
          break;
      }
    }
    // After stop() the socket is closed; the client simply gets no answer.
    send(response).catch(() => undefined);
  }
}

function typeName(type: number): string {
  const entry = Object.entries(PacketClass.TYPE).find(([, value]) => value === type);
  return entry?.[0] ?? String(type);
}
