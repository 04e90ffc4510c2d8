import type { FakeCredential, FakeState } from '../state.ts';

export interface Ctx {
  params: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown>;
  state: FakeState;
  credential: FakeCredential | null;
  header(name: string): string | undefined;
  /** Keeps only the properties the operation's answer model declares (families differ: MX Plan domains have no SPF fields). */
  fit(value: Record<string, unknown>): Record<string, unknown>;
}

export type Handler = (ctx: Ctx) => unknown | Promise<unknown>;

/** Handlers by "METHOD /schema/template". */
export type Routes = Map<string, Handler>;
