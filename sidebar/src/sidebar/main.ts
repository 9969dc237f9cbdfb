import { createApp } from 'vue';
import App from './App.vue';
import { i18n } from '../shared/i18n.ts';

createApp(App).use(i18n).mount('#app');
