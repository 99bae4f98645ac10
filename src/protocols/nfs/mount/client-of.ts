/** The MountClient a MOUNT procedure passes to its backend, taken from the RPC call context. */
import type { RpcCallContext } from '../rpc/dispatcher.js';
import type { MountClient } from './backend.js';

export const mountClientOf = (ctx: RpcCallContext): MountClient => ({ address: ctx.peer.address, port: ctx.peer.port, auth: ctx.auth });
