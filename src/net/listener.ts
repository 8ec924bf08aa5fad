import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Services } from '../commands/services.js';
import { Connection } from './connection.js';

export interface ListenerOptions {
  port: number;
  bindIps: readonly string[];
  maxConns: number;
}

/**
 * Accepts TCP connections on every bind address (one port for all of them), enforces maxConns
 * as mongod does (refuse and close, log 22942), and closes everything on stop.
 */
export class Listener {
  private readonly servers: Server[] = [];
  private readonly live = new Set<Connection>();
  private nextConnectionId = 1;
  port = 0;

  constructor(
    private readonly context: Services,
    private readonly options: ListenerOptions,
  ) {}

  async start(): Promise<void> {
    let port = this.options.port;
    for (const host of this.options.bindIps) {
      const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // ipv6Only keeps "::" from also claiming the IPv4 port another bind address may want.
        // isIPv6 is asked last: its first call compiles Node's IPv6 regex (~3 ms of start-up).
        server.listen({ port, host, ipv6Only: this.options.bindIps.length > 1 && isIPv6(host) }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address();
      if (address !== null && typeof address === 'object') port = address.port;
      this.servers.push(server);
      this.context.log.info({
        c: 'NETWORK',
        id: 23015,
        ctx: 'listener',
        msg: 'Listening on',
        attr: { address: host },
      });
    }
    this.port = port;
  }

  private accept(socket: Socket): void {
    const { context } = this;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.live.size >= this.options.maxConns || context.process.shuttingDown) {
      context.clients.rejected += 1;
      context.log.chatty({
        c: 'NETWORK',
        id: 22942,
        ctx: 'listener',
        msg: 'Connection refused because there are too many open connections',
        attr: { remote, connectionCount: this.live.size },
      });
      socket.destroy();
      return;
    }
    const id = this.nextConnectionId++;
    const uuid = { uuid: { $uuid: randomUUID() } };
    const connection = new Connection(socket, context, id, (c) => {
      if (!this.live.delete(c)) return;
      context.clients.open.delete(id);
      context.log.chatty({
        c: 'NETWORK',
        id: 22944,
        ctx: `conn${id}`,
        msg: 'Connection ended',
        attr: { remote: c.client.remote, uuid, connectionId: id, connectionCount: this.live.size },
      });
    });
    this.live.add(connection);
    context.clients.open.set(id, connection.client);
    context.clients.totalCreated += 1;
    context.log.chatty({
      c: 'NETWORK',
      id: 22943,
      ctx: 'listener',
      msg: 'Connection accepted',
      attr: { remote: connection.client.remote, uuid, connectionId: id, connectionCount: this.live.size },
    });
  }

  /** Stops accepting, then ends every open connection. */
  async stop(): Promise<void> {
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const connection of this.live) connection.end();
    await Promise.all(closing);
  }
}
