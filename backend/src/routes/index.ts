import type { Api } from '../http/env.js';
import type { Services } from '../http/services.js';
import { registerStoreInfo } from './store-info.js';

/** Every REST resource, one file each; add a new resource's `register…` call here. */
export function registerRoutes(api: Api, services: Services): void {
  registerStoreInfo(api, services);
}
