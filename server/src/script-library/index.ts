export { registerScriptModels, type Script, type ScriptModels, type ScriptUsage } from './models.ts';
export { ScriptLibrary, scriptInput, scriptKey, type ScriptInput, type ScriptView, type UsageInput } from './library.ts';
export { scriptsAdminModule } from './admin-routes.ts';
export { DEMO_SCRIPTS } from './demo-scripts.ts';
