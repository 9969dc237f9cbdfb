export { registerGroupWelcomeModels, type GroupWelcome, type GroupWelcomeModels } from './models.ts';
export { groupWelcomeModule, MAX_WELCOME_BYTES, NICKNAME_PLACEHOLDER, type GroupWelcomeDeps } from './routes.ts';
