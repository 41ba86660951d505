// UI strings of click-to-chat links, short links and QR codes, in English
// and German (the language i18n.ts chose).

import { lang } from './i18n';

const en = {
  linkTitle: 'Chat with {name}',
  linkIntro: 'Parley is a messenger with end-to-end encryption. This link starts a chat with {name}.',
  linkBusiness: '{name} is a business on this server. A service of the server operator handles its chats on its behalf.',
  linkPrefill: 'Your message will be ready to send (you can change it first):',
  linkRegister: 'Register or log in with your phone number to start the chat. Your keys are made and kept in this browser.',
  linkContinue: 'Continue to the chat',
  linkErrorTitle: 'This link does not work',
  linkBadNumber: 'The link does not name a valid phone number ("{value}"). A number has 8 to 15 digits with the country code, like 4915100000001.',
  linkTooLong: 'The message in this link is {n} characters long; at most 140 are allowed.',
  linkUnknownCode: 'There is no QR code or short link "{value}" on this server. Check the link, or ask the business for a new one.',
  linkExpired: 'This QR code or short link has expired: the business deleted it.',
  linkNetwork: 'The link could not be checked because the server cannot be reached. Try again in a moment.',
  linkOpenParley: 'Open Parley',
  linkLoading: 'Checking the link…',
};

type Strings = typeof en;

const de: Strings = {
  linkTitle: 'Chat mit {name}',
  linkIntro: 'Parley ist ein Messenger mit Ende-zu-Ende-Verschlüsselung. Dieser Link startet einen Chat mit {name}.',
  linkBusiness: '{name} ist ein Unternehmen auf diesem Server. Ein Dienst des Serverbetreibers bearbeitet seine Chats in seinem Auftrag.',
  linkPrefill: 'Deine Nachricht liegt zum Senden bereit (du kannst sie vorher ändern):',
  linkRegister: 'Registriere dich oder melde dich mit deiner Telefonnummer an, um den Chat zu starten. Deine Schlüssel werden in diesem Browser erzeugt und bleiben hier.',
  linkContinue: 'Weiter zum Chat',
  linkErrorTitle: 'Dieser Link funktioniert nicht',
  linkBadNumber: 'Der Link nennt keine gültige Telefonnummer („{value}“). Eine Nummer hat 8 bis 15 Ziffern mit Ländervorwahl, etwa 4915100000001.',
  linkTooLong: 'Die Nachricht in diesem Link ist {n} Zeichen lang; erlaubt sind höchstens 140.',
  linkUnknownCode: 'Einen QR-Code oder Kurzlink „{value}“ gibt es auf diesem Server nicht. Prüfe den Link oder bitte das Unternehmen um einen neuen.',
  linkExpired: 'Dieser QR-Code oder Kurzlink ist abgelaufen: Das Unternehmen hat ihn gelöscht.',
  linkNetwork: 'Der Link konnte nicht geprüft werden, weil der Server nicht erreichbar ist. Versuche es gleich noch einmal.',
  linkOpenParley: 'Parley öffnen',
  linkLoading: 'Link wird geprüft…',
};

const strings: Strings = lang === 'de' ? de : en;

export function lt(key: keyof Strings, vars: Record<string, string | number> = {}): string {
  return strings[key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}
