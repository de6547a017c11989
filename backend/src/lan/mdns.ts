import { Bonjour } from 'bonjour-service';

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
 * bonjour-service, started on the first announcement (it opens multicast sockets). Its errors (no
 * multicast on this network, a name conflict) are reported, never thrown: discovery is a convenience.
 */
export function bonjourResponder(onError: (error: Error) => void): MdnsResponder {
  let bonjour: Bonjour | undefined;
  return {
    advertise(advertisement) {
      bonjour ??= new Bonjour({}, onError);
      const service = bonjour.publish({ ...advertisement, protocol: 'tcp' });
      service.on('error', onError);
      return { stop: () => new Promise<void>((done) => service.stop?.(() => done()) ?? done()) };
    },
    close: () =>
      new Promise<void>((done) => {
        if (!bonjour) return done();
        bonjour.destroy(() => done());
        bonjour = undefined;
      }),
  };
}
