export * from './schema.ts';
export { TemplateError } from './errors.ts';
export { TEMPLATE_VARIABLES, renderContent } from './content.ts';
export { cronProblems, sopTemplateSchema } from './rules.ts';
export { loadTemplates, parseTemplate, validateTemplate } from './loader.ts';
