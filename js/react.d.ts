// Types of pqlkit/react (js/react.js). React >= 18 is a peer dependency.
import type { HTMLAttributes, ReactElement, ReactNode } from 'react';
import type { InitOptions, Pqlkit, PqlkitError, PromptEvent, ScoreReport } from './index.js';

export interface PqlkitProviderProps {
  /** Passed to `init` once, at mount; later changes of `user` / `account` are applied with identify / group. */
  options?: InitOptions;
  /** An instance created with `init` elsewhere, used as is and not destroyed on unmount. */
  client?: Pqlkit;
  /** Called when `init` rejects (else the error goes to console.error). */
  onError?: (error: PqlkitError) => void;
  children?: ReactNode;
}

/** Starts pqlkit for the tree below it. Safe under StrictMode (one init) and SSR (no init, no markup). */
export declare function PqlkitProvider(props: PqlkitProviderProps): ReactElement;

/** The instance, or null before `init` resolved, on the server and outside a provider. */
export declare function usePqlkit(): Pqlkit | null;

/** The score report; re-renders when the score, tier, `qualified` or the rules that hold change. */
export declare function useScore(): ScoreReport;

/** A prompt handed out by the hooks: each reporter counts at most once. */
export interface HeadlessPrompt extends PromptEvent {
  shown(): void;
  clicked(): void;
  dismissed(): void;
}

/** The current prompt to render yourself (`ui: 'none'`), optionally for one slot or style, or null. */
export declare function usePrompt(filter?: { slot?: string; style?: PromptEvent['style'] }): HeadlessPrompt | null;

export interface PqlkitSlotProps extends Omit<HTMLAttributes<HTMLDivElement>, 'children'> {
  name: string;
  /** A function renders this slot's prompt yourself (`ui: 'none'`) and reports it shown. */
  children?: ReactNode | ((prompt: HeadlessPrompt) => ReactNode);
}

/** `<div data-pqlkit-slot={name}>`: where inline prompts for slot `name` render. */
export declare function PqlkitSlot(props: PqlkitSlotProps): ReactElement;
