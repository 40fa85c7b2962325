## Ratings of the answer, Russian: asked under the closing message of a private conversation.

# Added to the closing message, above the buttons «1» … «5».
rating-question = Помог ли ответ? Оцените его от 1 до 5.
# What the citizen is told after a press (a small notice on Telegram, a reply on VK).
rating-thanks = Спасибо за оценку!
rating-changed = Оценка изменена. Спасибо!
# A press that names no conversation of the citizen's: nothing is stored.
rating-refused = Эта оценка не принята: кнопка не относится к вашему сообщению.
# To the supervisors' chat (or the staff chat) when a citizen rates the answer 1 or 2.
rating-low = №{ $number }: оценка { $score } из 5 от { $citizen }.
rating-low-answer = Ответ, который получил гражданин:
rating-low-no-answer = Гражданину не ответили.
rating-low-hint = Ответ на это сообщение дойдёт гражданину.
