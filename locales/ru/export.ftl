## The export (python -m bot export), Russian: the columns' headers and the yes/no of «late».

export-number = №
export-platform = Платформа
export-channel = Канал
export-department = Отдел
export-opened = Открыто
export-first-answer = Первый ответ
export-closed = Закрыто
# Seconds of working time (BUSINESS_HOURS and the production calendar) from opening.
export-answer-seconds = Время до первого ответа, с рабочего времени
export-late = С опозданием
export-interim = Промежуточных ответов
export-rating = Оценка
# The audit trail: local time, the action (answered, closed, moved, …), the staff member.
export-staff-actions = Действия сотрудников
export-citizen-name = Имя
export-citizen-username = Имя пользователя
export-citizen-id = ID на платформе
export-texts = Сообщения гражданина
export-yes = да
export-no = нет
