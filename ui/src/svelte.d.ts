// tsc checks ui/src/**/*.ts (svelte-check needs TypeScript ≤ 6; the project uses 7): components
// are opaque to it, and Vite's Svelte plugin compiles them.
declare module '*.svelte' {
  import type { Component } from 'svelte';

  const component: Component<Record<string, unknown>>;
  export default component;
}

declare module '*.css' {}
