export * from './schema.ts';
export { TemplateError } from './errors.ts';
export { TEMPLATE_VARIABLES, renderContent, variablesIn } from './content.ts';
export { checkYaml, loadTemplates, parseTemplate } from './loader.ts';
export { formatPath, type FieldPath } from './errors.ts';
export { problemsFromIssues, templateErrorMap, type Problem } from './issues.ts';
export { scheduleProblems, sopJourneySchema, sopTemplateSchema } from './rules.ts';
