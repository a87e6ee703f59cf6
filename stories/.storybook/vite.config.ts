// Vite settings for Storybook only: React, and the demos import the library from source.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
});
