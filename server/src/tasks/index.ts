export { registerRepTasks, createRepTask, snoozedUntil, type RepTask, type RepTaskModel } from './model.ts';
export { TaskReminders, type TaskRemindersDeps } from './reminders.ts';
