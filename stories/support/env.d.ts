/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The relay the demos talk to (npm start sets it). */
  readonly STORYBOOK_RELAY_URL?: string;
}
