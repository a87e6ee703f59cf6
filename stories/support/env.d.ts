/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The relay the demos talk to (npm start sets it). */
  readonly STORYBOOK_RELAY_URL?: string;
  /**
   * The dev-only token endpoint the demos ask for tokens (npm start sets it). A URL only: the
   * relay's secret never reaches Storybook, which inlines STORYBOOK_* variables into the page.
   */
  readonly STORYBOOK_TOKEN_URL?: string;
}
