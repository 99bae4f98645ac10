/**
 * Who may change the portmap table: only callers on the loopback interface, as rpcbind allows
 * SET/UNSET only from local processes. Read-only procedures (GETPORT, DUMP) are open to all.
 */
import type { Peer } from '../rpc/dispatcher.js';

export function isLoopbackPeer(peer: Peer): boolean {
  return peer.address === '::1' || peer.address.startsWith('127.');
}
