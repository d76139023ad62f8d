/**
 * A fake Matrix homeserver over real HTTP, faithful to the client-server spec and to Synapse's
 * observable behaviour (errcodes, UIA, admin API). It powers the tests and `npm run demo`.
 * Everything lives in memory; faults (429, 5xx, hangs, resets) are injected on demand and every
 * request is logged exactly as received.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { adminRoutes } from "./fake-homeserver-admin.ts";
import { clientRoutes, type HomeserverContext } from "./fake-homeserver-client.ts";
import { applyFault, FaultQueue } from "./fake-homeserver-faults.ts";
import {
  loggedBody,
  MatrixHttpError,
  matchRoute,
  matrixError,
  type Reply,
  type Route,
  readBody,
  sendReply,
  unrecognized,
} from "./fake-homeserver-http.ts";
import { seedDemo } from "./fake-homeserver-seed.ts";
import { type DeviceJsonShape, HomeserverState } from "./fake-homeserver-state.ts";
import { UiaSessions } from "./fake-homeserver-uia.ts";

export interface FakeDevice {
  deviceId: string;
  displayName?: string;
  lastSeenIp?: string;
  lastSeenTs?: number;
  userAgent?: string;
}

export interface FakeUserInit {
  userId: string;
  password: string;
  displayName?: string;
  admin?: boolean;
  deactivated?: boolean;
}

export interface LoggedRequest {
  method: string;
  /** raw path exactly as received, still percent-encoded, without query */
  path: string;
  /** raw query string without '?', '' if none */
  query: string;
  headers: Record<string, string | undefined>;
  /** parsed JSON, or the raw string when it is not JSON, or null when empty */
  body: unknown;
  /** the status answered; 0 while unanswered and for hang/reset faults */
  status: number;
}

export interface FakeHomeserverOptions {
  /** default ["r0.6.1", "v1.1", "v1.11"] */
  versions?: string[];
  /** default 100 (Synapse's MAX_DEVICE_DISPLAY_NAME_LEN) */
  displayNameMaxLength?: number;
  /** injectable clock, default Date.now */
  now?: () => number;
  /** default 0 (any free port) */
  port?: number;
  /** artificial delay before each answer, default 0 */
  latencyMs?: number;
  /** how long a UIA session lives, by `now()`; default 5 minutes */
  uiaSessionTtlMs?: number;
  /**
   * "spec" (default) omits unset device fields; "synapse" answers like real Synapse does:
   * `user_id` on every device and unset fields as null.
   */
  deviceJson?: DeviceJsonShape;
  /** the request log keeps the newest this many entries (a long demo must not grow); default 100 000 */
  maxLoggedRequests?: number;
}

export type Fault =
  | {
      kind: "rateLimit";
      retryAfterMs: number;
      /** also send Retry-After: ceil(ms/1000) seconds */
      header: boolean;
      /** include retry_after_ms in the body, default true */
      body?: boolean;
    }
  /** with errcode: a Matrix error body; without: a reverse proxy's HTML page (like nginx) */
  | { kind: "status"; status: number; errcode?: string; error?: string }
  /** accept the request and never answer (until stop()) */
  | { kind: "hang" }
  /** destroy the socket without answering */
  | { kind: "reset" };

const MAX_BODY_BYTES = 1024 * 1024;

function flattenHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

export class FakeHomeserver {
  readonly url: string;
  readonly serverName: string = "localhost";
  readonly requests: LoggedRequest[] = [];
  readonly #server: Server;
  readonly #state: HomeserverState;
  readonly #now: () => number;
  readonly #latencyMs: number;
  readonly #maxLogged: number;
  readonly #routes: Route[];
  readonly #faults = new FaultQueue();
  readonly #timers = new Set<NodeJS.Timeout>();
  #accountManagementUri: string | null = null;
  #stopping: Promise<void> | null = null;

  private constructor(server: Server, url: string, options: FakeHomeserverOptions) {
    this.#server = server;
    this.url = url;
    this.#now = options.now ?? Date.now;
    this.#latencyMs = options.latencyMs ?? 0;
    this.#maxLogged = options.maxLoggedRequests ?? 100_000;
    this.#state = new HomeserverState(this.#now);
    const context: HomeserverContext = {
      state: this.#state,
      uia: new UiaSessions(
        this.#state,
        this.serverName,
        this.#now,
        options.uiaSessionTtlMs ?? 5 * 60_000,
      ),
      url,
      serverName: this.serverName,
      versions: options.versions ?? ["r0.6.1", "v1.1", "v1.11"],
      displayNameMaxLength: options.displayNameMaxLength ?? 100,
      deviceJson: options.deviceJson ?? "spec",
      accountManagementUri: () => this.#accountManagementUri,
    };
    this.#routes = [...clientRoutes(context), ...adminRoutes(context)];
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res).catch(() => res.destroy());
    });
  }

  static async start(options: FakeHomeserverOptions = {}): Promise<FakeHomeserver> {
    const server = createServer({ keepAliveTimeout: 5_000 });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    return new FakeHomeserver(server, `http://127.0.0.1:${port}`, options);
  }

  clearLog(): void {
    this.requests.length = 0;
  }

  addUser(user: FakeUserInit): void {
    this.#state.addUser(user);
  }

  /** Creates a device with a fresh access token and returns the token. */
  addDevice(userId: string, device: FakeDevice): string {
    return this.#state.addDevice(userId, device);
  }

  /** A further access token for an existing device (tests only), or null when there is none. */
  tokenFor(userId: string, deviceId: string): string | null {
    return this.#state.tokenFor(userId, deviceId);
  }

  /** Snapshot copies, sorted by device id. */
  devicesOf(userId: string): FakeDevice[] {
    return this.#state.devicesOf(userId);
  }

  /** Upserts a device: the record is replaced as given (omitted fields become unset); tokens stay. */
  setDevice(userId: string, device: FakeDevice): void {
    this.#state.setDevice(userId, device);
  }

  /** Delegates auth to an OAuth server (MAS) with this account URL, or stops doing so (null). */
  setAuthDelegated(accountManagementUri: string | null): void {
    this.#accountManagementUri = accountManagementUri;
  }

  /**
   * Queues a fault for the next `times` requests (default 1) whose decoded path matches `match`
   * (substring or RegExp; default every path) and, if given, whose method is `method`.
   */
  inject(
    fault: Fault,
    options: { match?: string | RegExp; times?: number; method?: string } = {},
  ): void {
    this.#faults.add(fault, options);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /** Closes the server and every socket, hanging ones included; safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= new Promise<void>((resolve) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#stopping;
  }

  /**
   * The demo data: alice (admin, "alice-password") with ALICEDEV01 (in use), ALICEDEV02 (last
   * seen 120 days ago) and ALICEDEV03 (never used, no name); bob ("bob-password") with BOBDEV01
   * and BOBDEV02. Returns the tokens of ALICEDEV01 and BOBDEV01.
   */
  seedDemo(): { aliceToken: string; bobToken: string; alice: string; bob: string } {
    return seedDemo(this, this.#now());
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? "/";
    const q = target.indexOf("?");
    const rawPath = q === -1 ? target : target.slice(0, q);
    const query = q === -1 ? "" : target.slice(q + 1);
    const method = req.method ?? "GET";
    const { text, tooLarge } = await readBody(req, MAX_BODY_BYTES);
    const entry: LoggedRequest = {
      method,
      path: rawPath,
      query,
      headers: flattenHeaders(req),
      body: tooLarge ? null : loggedBody(text),
      status: 0,
    };
    this.requests.push(entry);
    if (this.requests.length > this.#maxLogged)
      this.requests.splice(0, this.requests.length - this.#maxLogged);
    if (this.#latencyMs > 0) await this.#sleep(this.#latencyMs);
    if (this.#stopping) {
      res.destroy();
      return;
    }

    const fault = this.#faults.take(method, rawPath);
    if (fault) {
      entry.status = applyFault(fault, res);
      return;
    }
    const reply = tooLarge
      ? toReply(matrixError(413, "M_TOO_LARGE", "Request content is too large"))
      : this.#dispatch(req, method, rawPath, query, text);
    entry.status = reply.status;
    sendReply(res, reply);
  }

  #dispatch(
    req: IncomingMessage,
    method: string,
    rawPath: string,
    query: string,
    bodyText: string,
  ): Reply {
    // Synapse answers every OPTIONS (CORS preflight) without looking at the path or the token.
    if (method === "OPTIONS") return { status: 204, body: null };
    try {
      const match = matchRoute(this.#routes, rawPath);
      if (!match) throw unrecognized(404);
      // Twisted serves HEAD with the GET handler, without the body.
      const handler = match.route.methods[method === "HEAD" ? "GET" : method];
      if (!handler) throw unrecognized(405);
      const authorization = req.headersDistinct.authorization ?? [];
      return handler({
        method,
        rawPath,
        params: match.params,
        query: new URLSearchParams(query),
        authorization,
        userAgent: req.headers["user-agent"] ?? null,
        remoteAddress: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
        bodyText,
      });
    } catch (error) {
      if (error instanceof MatrixHttpError) return toReply(error);
      return toReply(matrixError(500, "M_UNKNOWN", "Internal server error"));
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }
}

function toReply(error: MatrixHttpError): Reply {
  return { status: error.status, body: error.body };
}
