import type { Bonjour } from 'bonjour-service';

/** What a store announces on the local network while sharing is on. */
export interface Advertisement {
  name: string;
  /** The DNS-SD service type without underscores: `api-store` is `_api-store._tcp`. */
  type: 'api-store';
  port: number;
  txt: Record<string, string>;
}

/**
 * Announces services over mDNS. Injected so that tests record what would be announced without
 * sending multicast; production uses bonjour-service.
 */
export interface MdnsResponder {
  advertise(advertisement: Advertisement): { stop(): Promise<void> };
  close(): Promise<void>;
}

/** Announces nothing: discovery switched off (`lan.discovery: false`). */
export const silentResponder: MdnsResponder = {
  advertise: () => ({ stop: async () => {} }),
  close: async () => {},
};

/**
 * bonjour-service, loaded and started on the first announcement (it opens multicast sockets; most
 * runs never share). Its errors (no multicast on this network, a name conflict) are reported,
 * never thrown: discovery is a convenience.
 */
export function bonjourResponder(onError: (error: Error) => void): MdnsResponder {
  let bonjour: Promise<Bonjour> | undefined;
  const start = () => import('./bonjour.js').then(({ Bonjour }) => new Bonjour({}, onError));
  return {
    advertise(advertisement) {
      bonjour ??= start();
      const service = bonjour.then((started) => {
        const published = started.publish({ ...advertisement, protocol: 'tcp' });
        published.on('error', onError);
        return published;
      });
      service.catch(onError);
      return {
        stop: () => service.then((published) => new Promise<void>((done) => published.stop?.(() => done()) ?? done())).catch(() => {}),
      };
    },
    close: async () => {
      const started = await bonjour?.catch(() => undefined);
      bonjour = undefined;
      if (started) await new Promise<void>((done) => started.destroy(() => done()));
    },
  };
}
