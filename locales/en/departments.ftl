## Departments (the operator's DEPARTMENTS_FILE), English.

# A line of the card: the department the message was routed to.
card-department = Department: { $department }
# In /queue and the digest, after a ticket's number.
queue-department = { $department }
# The digest: messages and ratings per department.
digest-departments = By department: { $list }
digest-department-item = { $department }: { $count }
digest-ratings = Ratings of answers: { $list }
digest-rating-item = { $department }: { $average } of 5 ({ $count })
digest-rating-all = { $average } of 5 ({ $count })
