import type { SupervisorState } from '../../main/supervisor.js';

/** Resolves with the supervisor's state once `predicate` holds, now or at a later change. */
export function untilState(
  supervisor: { readonly state: SupervisorState; onChange(listener: (state: SupervisorState) => void): () => void },
  predicate: (state: SupervisorState) => boolean,
): Promise<SupervisorState> {
  if (predicate(supervisor.state)) return Promise.resolve(supervisor.state);
  return new Promise((resolve) => {
    const stop = supervisor.onChange((state) => {
      if (!predicate(state)) return;
      stop();
      resolve(state);
    });
  });
}
