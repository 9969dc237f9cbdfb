export * from './schema.ts';
export { TemplateError } from './errors.ts';
export { TEMPLATE_VARIABLES, renderContent } from './content.ts';
export { loadTemplates, parseTemplate } from './loader.ts';
