"""The built-in engine's reply phrases, per language and tone. Placeholders: {name}, {agent}, {title}."""

from __future__ import annotations

LANGUAGES = ("en", "es", "de", "fr")
TONES = ("friendly", "concise", "formal")

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "greet.friendly": "Hi {name},",
        "greet.concise": "Hi {name},",
        "greet.formal": "Dear {full_name},",
        "greet.anon": "Hello,",
        "thanks.friendly": "Thanks for getting in touch!",
        "thanks.formal": "Thank you for contacting us.",
        "sorry.friendly": "I'm really sorry about the trouble this has caused you.",
        "sorry.formal": "Please accept our apologies for the inconvenience this has caused.",
        "sorry.repeat": "I'm sorry you've had to get in touch more than once about this.",
        "grounded.intro": "Here is what to do, from our guide “{title}”:",
        "grounded.more": "You'll find the full guide here: {title}.",
        "grounded.also": "This article may help too: {title}.",
        "welcome": "You're very welcome, and thank you for letting us know. I'm glad it's all working.",
        "nosource": "I couldn't find this covered in our help articles, so rather than guess, I've asked the team "
        "who can confirm and I'll come back to you with a definite answer.",
        "human": "I'm a member of the support team and I'm handling your case personally.",
        "close.friendly": "Let me know if anything is unclear. Happy to help!",
        "close.concise": "",
        "close.formal": "Should you have any further questions, please do not hesitate to contact us.",
        "sign.friendly": "Best,\n{agent}",
        "sign.concise": "{agent}",
        "sign.formal": "Kind regards,\n{agent}",
        "english_source": "",
    },
    "es": {
        "greet.friendly": "Hola {name}:",
        "greet.concise": "Hola {name}:",
        "greet.formal": "Estimado/a {full_name}:",
        "greet.anon": "Hola:",
        "thanks.friendly": "¡Gracias por escribirnos!",
        "thanks.formal": "Gracias por ponerse en contacto con nosotros.",
        "sorry.friendly": "Siento mucho las molestias que esto le ha causado.",
        "sorry.formal": "Le pedimos disculpas por las molestias ocasionadas.",
        "sorry.repeat": "Siento que haya tenido que escribirnos más de una vez por este motivo.",
        "grounded.intro": "Estos son los pasos de nuestra guía «{title}»:",
        "grounded.more": "Puede leer la guía completa aquí: {title}.",
        "grounded.also": "Este artículo también puede ayudarle: {title}.",
        "welcome": "De nada, y gracias por contárnoslo. Me alegra que todo funcione.",
        "nosource": "No he encontrado este caso en nuestros artículos de ayuda, así que en lugar de suponer, "
        "lo he consultado con el equipo y le responderé con una respuesta segura.",
        "human": "Soy una persona del equipo de soporte y me ocupo de su caso personalmente.",
        "close.friendly": "Si algo no queda claro, dígamelo. ¡Con gusto le ayudo!",
        "close.concise": "",
        "close.formal": "Quedamos a su disposición para cualquier otra consulta.",
        "sign.friendly": "Un saludo,\n{agent}",
        "sign.concise": "{agent}",
        "sign.formal": "Atentamente,\n{agent}",
        "english_source": "(Nuestra guía está en inglés; le cito los pasos tal cual.)",
    },
    "de": {
        "greet.friendly": "Hallo {name},",
        "greet.concise": "Hallo {name},",
        "greet.formal": "Guten Tag {full_name},",
        "greet.anon": "Hallo,",
        "thanks.friendly": "Danke, dass Sie sich bei uns melden!",
        "thanks.formal": "Vielen Dank für Ihre Nachricht.",
        "sorry.friendly": "Es tut mir wirklich leid, dass Ihnen das Ärger bereitet hat.",
        "sorry.formal": "Bitte entschuldigen Sie die entstandenen Unannehmlichkeiten.",
        "sorry.repeat": "Es tut mir leid, dass Sie sich deswegen mehrmals melden mussten.",
        "grounded.intro": "So geht es, laut unserer Anleitung „{title}“:",
        "grounded.more": "Die vollständige Anleitung finden Sie hier: {title}.",
        "grounded.also": "Dieser Artikel hilft vielleicht auch: {title}.",
        "welcome": "Gern geschehen, und danke für Ihre Rückmeldung. Schön, dass alles funktioniert.",
        "nosource": "Ich habe dazu keinen Hilfeartikel gefunden. Statt zu raten, habe ich das Team gefragt, "
        "das es sicher weiß, und melde mich mit einer verbindlichen Antwort.",
        "human": "Ich bin ein Mensch aus dem Support-Team und kümmere mich persönlich um Ihr Anliegen.",
        "close.friendly": "Melden Sie sich gern, wenn etwas unklar ist!",
        "close.concise": "",
        "close.formal": "Für weitere Fragen stehen wir Ihnen gerne zur Verfügung.",
        "sign.friendly": "Viele Grüße\n{agent}",
        "sign.concise": "{agent}",
        "sign.formal": "Mit freundlichen Grüßen\n{agent}",
        "english_source": "(Unsere Anleitung ist auf Englisch; ich zitiere die Schritte wörtlich.)",
    },
    "fr": {
        "greet.friendly": "Bonjour {name},",
        "greet.concise": "Bonjour {name},",
        "greet.formal": "Madame, Monsieur {full_name},",
        "greet.anon": "Bonjour,",
        "thanks.friendly": "Merci de nous avoir écrit !",
        "thanks.formal": "Nous vous remercions de nous avoir contactés.",
        "sorry.friendly": "Je suis vraiment désolé(e) pour la gêne occasionnée.",
        "sorry.formal": "Nous vous prions de nous excuser pour la gêne occasionnée.",
        "sorry.repeat": "Je suis désolé(e) que vous ayez dû nous relancer à ce sujet.",
        "grounded.intro": "Voici la marche à suivre, d'après notre guide « {title} » :",
        "grounded.more": "Le guide complet est ici : {title}.",
        "grounded.also": "Cet article peut aussi vous aider : {title}.",
        "welcome": "Avec plaisir, et merci pour votre message. Je suis ravi que tout fonctionne.",
        "nosource": "Je n'ai pas trouvé ce cas dans nos articles d'aide. Plutôt que de supposer, j'ai consulté "
        "l'équipe concernée et je reviens vers vous avec une réponse certaine.",
        "human": "Je suis une personne de l'équipe support et je m'occupe personnellement de votre demande.",
        "close.friendly": "N'hésitez pas à me dire si quelque chose n'est pas clair !",
        "close.concise": "",
        "close.formal": "Nous restons à votre disposition pour toute autre question.",
        "sign.friendly": "Bien cordialement,\n{agent}",
        "sign.concise": "{agent}",
        "sign.formal": "Veuillez agréer nos salutations distinguées,\n{agent}",
        "english_source": "(Notre guide est en anglais ; je cite les étapes telles quelles.)",
    },
}


def phrase(language: str, key: str, **values: object) -> str:
    table = PHRASES.get(language, PHRASES["en"])
    template = table.get(key, PHRASES["en"].get(key, ""))
    return template.format(**values) if template else ""
