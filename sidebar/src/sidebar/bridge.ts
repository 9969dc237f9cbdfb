import { api } from '../shared/api.ts';

/** Which chat the sidebar was opened next to. */
export type ChatContext = { kind: 'contact'; externalUserId: string } | { kind: 'group'; chatId: string } | { kind: 'none' };

/**
 * What the sidebar needs from the WeCom client. Inside WeCom it is the JS-SDK; in a plain browser
 * (demo, development, tests) a dev bridge with the same shape, so the app runs one code path.
 */
export interface ChatBridge {
  readonly name: 'wecom' | 'dev';
  context(): Promise<ChatContext>;
  sendText(text: string): Promise<void>;
  /** A link card (WeCom "news" message), for a script's link attachments. */
  sendLink(link: LinkCard): Promise<void>;
}

export interface LinkCard {
  url: string;
  title: string;
  description: string;
}

export function insideWecom(): boolean {
  return /wxwork/i.test(navigator.userAgent);
}

/** The WeCom JS-SDK, loaded only inside WeCom so the plain-browser bundle stays small. */
export async function wecomBridge(): Promise<ChatBridge> {
  const ww = await import('@wecom/jssdk');
  type Config = { corpId: string; agentId: string; timestamp: number; nonceStr: string; signature: string; agentSignature: string };
  const configs = new Map<string, Promise<Config>>();
  const configFor = (url: string) => {
    let config = configs.get(url);
    if (!config) configs.set(url, (config = api<Config>(`/api/sidebar/jssdk-config?url=${encodeURIComponent(url)}`)));
    return config;
  };
  const first = await configFor(location.href.split('#')[0]!);
  ww.register({
    corpId: first.corpId,
    agentId: first.agentId,
    jsApiList: ['getContext', 'getCurExternalContact', 'getCurExternalChat', 'sendChatMessage'],
    getConfigSignature: async (url) => {
      const c = await configFor(url);
      return { timestamp: c.timestamp, nonceStr: c.nonceStr, signature: c.signature };
    },
    getAgentConfigSignature: async (url) => {
      const c = await configFor(url);
      return { timestamp: c.timestamp, nonceStr: c.nonceStr, signature: c.agentSignature };
    },
  });
  return {
    name: 'wecom',
    async context() {
      const { entry } = await ww.getContext();
      if (entry === 'single_chat_tools' || entry === 'contact_profile') {
        return { kind: 'contact', externalUserId: (await ww.getCurExternalContact()).userId };
      }
      if (entry === 'group_chat_tools') return { kind: 'group', chatId: (await ww.getCurExternalChat()).chatId };
      return { kind: 'none' };
    },
    async sendText(text) {
      await ww.sendChatMessage({ msgtype: 'text', text: { content: text } });
    },
    async sendLink(link) {
      await ww.sendChatMessage({ msgtype: 'news', news: { link: link.url, title: link.title, desc: link.description, imgUrl: '' } });
    },
  };
}

export interface DevSent {
  text?: string;
  link?: LinkCard;
  to: ChatContext;
  at: string;
}

declare global {
  interface Window {
    /** Messages the dev bridge "sent", for the page and for end-to-end tests. */
    __devBridgeSent?: DevSent[];
  }
}

/** Outside WeCom: the chat is whichever customer or group the demo switcher picked; sends are recorded. */
export function devBridge(current: () => ChatContext): ChatBridge {
  window.__devBridgeSent = [];
  return {
    name: 'dev',
    context: async () => current(),
    async sendText(text) {
      window.__devBridgeSent!.push({ text, to: current(), at: new Date().toISOString() });
    },
    async sendLink(link) {
      window.__devBridgeSent!.push({ link, to: current(), at: new Date().toISOString() });
    },
  };
}
