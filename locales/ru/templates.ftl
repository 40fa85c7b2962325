## Canned answers, Russian: the administration's own, edited by the operator (LOCALES_DIR).
## Staff list them with /templates as a reply to a card and send one with /template 2.
## Each is a message whose key starts with "template-", in the order staff see them; .title
## is what the list shows. Placeholders: №{ $number } the ticket's number, { $name } the
## citizen's name as the platform gives it, { $date } today, { $deadline } the ticket's deadline.
## The text goes to the citizen as plain text, as if staff had typed it.

template-passed-on = Здравствуйте, { $name }! Ваше сообщение №{ $number } передано специалистам. Ответим до { $deadline }.
    .title = Передано специалистам
template-address = Здравствуйте, { $name }! Чтобы разобраться с сообщением №{ $number }, уточните, пожалуйста, точный адрес: улица, дом, подъезд.
    .title = Уточнить адрес
template-not-ours = Здравствуйте, { $name }! Вопрос из сообщения №{ $number } решает управляющая компания вашего дома: её телефон указан в квитанции. Если там не помогут, напишите нам снова.
    .title = Не наша компетенция: управляющая компания
template-done = Здравствуйте, { $name }! По сообщению №{ $number }: работы выполнены { $date }. Спасибо, что сообщили.
    .title = Работы выполнены
