// Type-checked with `tsc --noEmit` (never run): the declared API used as an app would.
import { connect, type ConnectionState, type ServerEvent } from '../reverse-ajax.js';

interface Order {
  sku: string;
  qty: number;
}

const states: ConnectionState['status'][] = [];
const conn = connect<Order>('orders-42', {
  url: 'https://push.example.com',
  transports: ['websocket', 'server-sent-events', 'long-polling'],
  token: async () => 'a.jwt.token',
  onEvent(event: ServerEvent<Order>) {
    const total: number = event.data.qty;
    void total;
  },
  onReset({ reason, next }) {
    console.warn(`gap: ${reason}, continuing from ${next}`);
  },
  onState(state) {
    states.push(state.status);
    if (state.transport === 'piggyback') console.log(state.fallbacks, state.attempt, state.cause);
  },
  onTrace(trace) {
    if (trace.kind === 'send') console.debug(`${trace.transport} asks ${trace.data.length} chars of URL`);
    if (trace.kind === 'answer') console.debug(trace.data.events?.length ?? 0);
  },
});

async function main(): Promise<string> {
  const { id } = await conn.publish({ sku: 'x', qty: 1 });
  conn.absorb({ events: [], next: id });
  const where: string | null = conn.cursor;
  return `${conn.transport ?? 'none'} ${where}`;
}

void main().finally(() => conn.close());
