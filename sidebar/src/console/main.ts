import { createApp } from 'vue';
import App from './App.vue';
import { createAppI18n } from '../shared/i18n.ts';
import { messages } from './messages.ts';
import './console.css';

createApp(App).use(createAppI18n(messages)).mount('#app');
