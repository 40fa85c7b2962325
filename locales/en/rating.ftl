## Ratings of the answer, English: asked under the closing message of a private conversation.

# Added to the closing message, above the buttons «1» … «5».
rating-question = Did the answer help? Rate it from 1 to 5.
# What the citizen is told after a press (a small notice on Telegram, a reply on VK).
rating-thanks = Thank you for your rating!
rating-changed = Rating changed. Thank you!
# A press that names no conversation of the citizen's: nothing is stored.
rating-refused = This rating was not taken: the button does not belong to your message.
# To the supervisors' chat (or the staff chat) when a citizen rates the answer 1 or 2.
rating-low = №{ $number }: rated { $score } of 5 by { $citizen }.
rating-low-answer = The answer the citizen got:
rating-low-no-answer = The citizen was not answered.
rating-low-hint = A reply to this message reaches the citizen.
