const zh = {
  playground: {
    title: '客服机器人体验',
    intro: '你是「{customer}」，正在和个人号客服机器人聊天。机器人用话术库里的 FAQ 回答，问它答不了的问题或说「转人工」时会转给同事并保持沉默。',
    placeholder: '输入消息，回车发送',
    send: '发送',
    // vue-i18n reads a bare @ as a linked message: it must be a literal.
    inRoom: "在群「{room}」里 {'@'}机器人",
    join: '模拟新成员入群',
    resume: '恢复机器人',
    handedOff: '已转人工：机器人对你保持沉默，直到同事在控制台恢复它（或点「恢复机器人」）。',
    notReady: '演示机器人还没登录，请稍后再试。',
    noReply: '（机器人没有回复：{outcome}）',
    outcomes: { ignored: '没有需要回答的内容', paused: '已转人工，机器人保持沉默', not_mentioned: '群里没有 @它', timeout: '超时' },
    you: '你',
    bot: '机器人',
    joined: '{name} 加入了群',
  },
};

type Shape = typeof zh;

/** English must have every text the Chinese has: a missing one would silently show Chinese. */
const en: Shape = {
  playground: {
    title: 'Customer bot playground',
    intro: 'You are "{customer}", chatting with the personal-WeChat service bot. It answers from the script library FAQ; ask something it cannot answer, or say 转人工, and it hands you to a colleague and stays silent.',
    placeholder: 'Type a message, Enter to send',
    send: 'Send',
    inRoom: 'Say it in the room "{room}", mentioning the bot',
    join: 'A new member joins the room',
    resume: 'Resume the bot',
    handedOff: 'Handed off: the bot stays silent to you until a colleague resumes it in the console (or click "Resume the bot").',
    notReady: 'The demo bot is not logged in yet; try again in a moment.',
    noReply: '(no reply: {outcome})',
    outcomes: { ignored: 'nothing to answer', paused: 'handed off, the bot stays silent', not_mentioned: 'not mentioned in the room', timeout: 'timed out' },
    you: 'You',
    bot: 'Bot',
    joined: '{name} joined the room',
  },
};

export const messages = { 'zh-CN': zh, en };
