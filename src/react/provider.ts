/** RealtimeProvider: gives hooks below it a client (yours, or one it owns) and a document cache. */
import { type ReactNode, createElement, useEffect, useMemo, useRef, useState } from 'react';
import { type DocumentCacheOptions, documentCache } from '../core/document-cache.js';
import { RealtimeClient, type RealtimeClientOptions } from '../core/realtime-client.js';
import type { Storage } from '../core/storage.js';
import { RealtimeContext, type RealtimeContextValue } from './context.js';

/** Props of {@link RealtimeProvider}: a `client`, or the options to make one. */
export type RealtimeProviderProps = {
  children?: ReactNode;
  /** Cache settings (garbage-collection delay, `update` retries); read once per client. */
  cache?: DocumentCacheOptions;
  /**
   * Keeps documents and pending writes across reloads: `indexedDbStorage(name)` from
   * `syncdoc/storage` (see {@link DocumentCacheOptions.storage}); read once per client.
   */
  storage?: Storage;
} & (
  | { /** A client you made and close yourself. */ client: RealtimeClient; url?: never }
  | ({ client?: never } & Omit<RealtimeClientOptions, 'autoConnect'>)
);

/**
 * Provides syncdoc to the hooks below. With `url` (and `token`, ...), the provider owns a client:
 * it connects on mount and disconnects on unmount (StrictMode's mount-unmount-mount included).
 * The other options are read once; `token` (a string or a function) is always the latest one
 * passed, so it may close over state (the signed-in user) without remaking the client.
 * It connects only in an effect, which server rendering never runs: `renderToString` dials
 * nothing, needs no WebSocket class, and the hooks render `loading`.
 */
export function RealtimeProvider(props: RealtimeProviderProps): ReactNode {
  const { children, cache: cacheOptions, storage, client: given, ...clientOptions } = props;
  const token = (clientOptions as Partial<RealtimeClientOptions>).token;
  const tokenRef = useRef(token);
  tokenRef.current = token;
  const [owned] = useState(() => {
    if (given) return undefined;
    const options = { ...(clientOptions as RealtimeClientOptions), autoConnect: false };
    if (token !== undefined) {
      // Always asks the latest prop, so a token that changes (a new login) is the one sent next.
      options.token = () => {
        const latest = tokenRef.current;
        return typeof latest === 'function' ? latest() : (latest ?? '');
      };
    }
    return new RealtimeClient(options);
  });
  const client = given ?? owned!;
  useEffect(() => {
    if (!owned) return;
    owned.connect();
    return () => owned.disconnect();
  }, [owned]);
  // The cache options are read once per client: the cache lives as long as the client.
  const value = useMemo<RealtimeContextValue>(() => ({ client, cache: documentCache(client, storage ? { ...cacheOptions, storage } : cacheOptions) }), [client]);
  // The writes a page before this one left in storage go out (in an effect: never on the server).
  useEffect(() => value.cache.restore(), [value]);
  return createElement(RealtimeContext.Provider, { value }, children);
}
