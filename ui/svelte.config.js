// TypeScript in <script lang="ts"> is stripped by Svelte 5 itself; no preprocessor needed.
export default {};
