/** Who is making a request, as every route sees it after authentication. */
export interface Caller {
  /** The user's key; in local and server modes the one implicit owner, `LOCAL_OWNER`. */
  user: string;
  /** May administer the store (invites, users' sessions). */
  admin: boolean;
  /** The session id when the caller signed in to a multi-user store (absent for the launch token). */
  session?: string;
}

/** The implicit owner of everything in local and server modes, and the admin in multi-user mode. */
export const LOCAL_OWNER = 'owner';

/** Turns a bearer credential into a caller, or undefined when it is not valid. */
export type Authenticator = (credential: string) => Promise<Caller | undefined> | Caller | undefined;
