export { normalisePhone, normalisePhones } from './phone.ts';
export { nameCompanyKey } from './key.ts';
export { matchContact, type Candidate, type Match, type MatchedContact } from './matcher.ts';
export { registerIdentityModels, type IdentityModels, type Lead, type IdentityReview, type IdentityMerge } from './models.ts';
export { IdentityError } from './merge.ts';
export { leadContactId, type LeadInput, type LeadOutcome } from './leads.ts';
export { type ContactCard } from './reviews.ts';
export { Identity, type IdentityDeps, type ReviewItem, type ReviewStatus } from './service.ts';
export { identityModule } from './routes.ts';
