// Type declarations for /static/client/reverse-ajax.js.

/** A transport's name: one per Reverse Ajax technique. */
export type TransportName =
  | 'websocket'
  | 'server-sent-events'
  | 'multipart-streaming'
  | 'forever-iframe'
  | 'long-polling'
  | 'script-long-polling'
  | 'polling'
  | 'jsonp-polling'
  | 'piggyback';

/** Every transport, best first. */
export const ALL: readonly TransportName[];
/** The default list: every transport but piggyback, best first. */
export const DEFAULT_TRANSPORTS: readonly TransportName[];

/** One event, as every transport carries it. */
export interface ServerEvent<T = unknown> {
  /** `<epoch>-<seq>`; opaque. */
  id: string;
  channel: string;
  data: T;
  /** When the server stored it, RFC 3339. */
  at: string;
}

/** Why the server could not resume from the cursor: events may be missing. */
export interface ResetInfo {
  reason: 'unknown_epoch' | 'evicted' | 'ahead' | 'lagged' | 'token_expired' | 'unknown' | (string & {});
  /** The id the connection continues from. */
  next: string;
}

export interface ConnectionState {
  /** `open` only once a hello or an answer came; never while no data can move. */
  status: 'connecting' | 'open' | 'offline' | 'closed';
  /** The transport in use or being tried. */
  transport: TransportName | null;
  /** Pauses in a row since the connection was last open. */
  attempt: number;
  /** How many times a transport gave way to the next. */
  fallbacks: number;
  /** Why the state changed (a fallback's cause, a failure, a reconnection), or null. */
  cause: string | null;
}

/** The answer of a poll, a long poll or a piggybacked request. */
export interface BatchAnswer<T = unknown> {
  events?: ServerEvent<T>[];
  next?: string;
  reset?: boolean;
  reset_reason?: string;
  [other: string]: unknown;
}

export interface Options<T = unknown> {
  /** The server's origin; default: the page's. */
  url?: string;
  /** The transports allowed, best first; default: DEFAULT_TRANSPORTS. */
  transports?: TransportName[];
  /** Where to start: an event id, or 'now'; default: the cursor stored for this channel, else now. */
  since?: string;
  /** Called before every (re)connection and publish; a 401 calls it again. */
  token?: () => string | undefined | Promise<string | undefined>;
  /** Each event once, in order. */
  onEvent?(event: ServerEvent<T>): void;
  /** A gap the server could not fill, before any later event. */
  onReset?(info: ResetInfo): void;
  /** Every change of state. */
  onState?(state: ConnectionState): void;
  /**
   * What the connection's transport does on the wire, for pages that show it (a debugging
   * view, the technique pages of this server); not needed to use the client.
   */
  onTrace?(trace: Trace): void;
  /** How long a transport may take to open (its hello or first answer); default 5000. */
  openTimeoutMs?: number;
  /** The server's long-poll cap; default 25000. */
  longPollCapMs?: number;
  /** Pause between polls; default 2000. */
  pollIntervalMs?: number;
  /** First re-check of better transports after a fallback; default 30000, doubling up to recheckMaxMs. */
  recheckMs?: number;
  recheckMaxMs?: number;
  /** How long the transport that worked is remembered for this origin; default 30 min. */
  rememberMs?: number;
  /** The pause after a shutdown that named no delay; default 2000. */
  shutdownDelayMs?: number;
  /** Test seam: stand-ins for the browser's globals and extra transports. */
  env?: Record<string, unknown>;
}

/**
 * One step of the session carrying the events (or of a transport being re-checked), as
 * `onTrace` sees it:
 * - `send`: a request or connection leaves; `data` is its URL (with the JSONP callback, the
 *   WebSocket's `ws:`);
 * - `receive`: a piece of a streamed body arrived (Server-Sent Events, multipart); `data` is
 *   its text;
 * - `frame`: a stream's frame, parsed (hello, heartbeat, reset, end, or an event); `data` is
 *   the value;
 * - `answer`: a poll's or long poll's answer, parsed; `data` is the batch.
 */
export type Trace =
  | { transport: TransportName; kind: 'send'; data: string }
  | { transport: TransportName; kind: 'receive'; data: string }
  | { transport: TransportName; kind: 'frame'; data: Record<string, unknown> }
  | { transport: TransportName; kind: 'answer'; data: BatchAnswer };

export interface Connection<T = unknown> {
  /** The transport carrying events now, or null while none is open. */
  readonly transport: TransportName | null;
  /** The id of the last event delivered (or the head it starts from); null for "now". */
  readonly cursor: string | null;
  /** A copy of the last state reported. */
  readonly state: ConnectionState;
  /** Publishes `data` (as JSON) to the channel; retried with the same idempotency key. */
  publish(data: unknown): Promise<{ id: string; duplicate?: boolean }>;
  /** Feeds the events riding on an answer of the app's own request (piggyback). */
  absorb(answer: BatchAnswer<T>): void;
  /** Closes for good. */
  close(): void;
}

/** Connects to `channel` and keeps the connection up until `close()`. */
export function connect<T = unknown>(channel: string, options?: Options<T>): Connection<T>;

/** What a transport module is (for reading the source; not needed to use the client). */
export interface Transport {
  name: TransportName;
  /** Opens only with an answer the app absorbs; no open timeout (piggyback). */
  passive?: boolean;
  supported?(env: Record<string, unknown>, base: string): boolean;
  open(ctx: Context): () => void;
}

/** What a transport's session is given. */
export interface Context {
  env: Record<string, any>;
  options: Required<Omit<Options, 'url' | 'transports' | 'since' | 'token' | 'onEvent' | 'onReset' | 'onState' | 'onTrace' | 'env'>>;
  url(kind: string, sinceName?: string): string;
  headers(extra?: Record<string, string>): Record<string, string>;
  responded(): void;
  /** Reports a step to `onTrace` (while this session is the live one or the probe). */
  trace(kind: 'send' | 'receive', data: string): void;
  alive(): void;
  expect(ms: number): void;
  watch(progress: () => unknown): void;
  hello(info: { time?: number; heartbeat_ms?: number }): void;
  frame(frame: Record<string, any>): void;
  batch(answer: BatchAnswer): void;
  end(reason?: string, hintMs?: number): void;
  fail(err: Error): void;
}

export const TRANSPORTS: Record<TransportName, Transport>;
