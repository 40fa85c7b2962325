## The export (python -m bot export), English: the columns' headers and the yes/no of «late».

export-number = №
export-platform = Platform
export-channel = Channel
export-department = Department
export-opened = Opened
export-first-answer = First answer
export-closed = Closed
# Seconds of working time (BUSINESS_HOURS and the production calendar) from opening.
export-answer-seconds = Working time to first answer, s
export-late = Late
export-interim = Interim answers
export-rating = Rating
# The audit trail: local time, the action (answered, closed, moved, …), the staff member.
export-staff-actions = Staff actions
export-citizen-name = Name
export-citizen-username = Username
export-citizen-id = Platform user id
export-texts = Citizen's messages
export-yes = yes
export-no = no
