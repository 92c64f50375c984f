/** Word lists for generated tenants: people, teams, rooms and the devices that still send with SMTP AUTH. */
export const FIRST_NAMES = [
  'Aisha', 'Alejandro', 'Amelia', 'Anna', 'Arjun', 'Ben', 'Carlos', 'Chen', 'Chloe', 'Daniel', 'David', 'Elena',
  'Emma', 'Ethan', 'Fatima', 'Felix', 'Grace', 'Hannah', 'Hiroshi', 'Ines', 'Isabel', 'Ivan', 'Jack', 'James',
  'Jana', 'Javier', 'Julia', 'Kai', 'Karin', 'Kenji', 'Laura', 'Leon', 'Lina', 'Lucas', 'Maria', 'Mateo', 'Maya',
  'Mehmet', 'Mia', 'Mohammed', 'Nadia', 'Nina', 'Noah', 'Olga', 'Olivia', 'Omar', 'Paul', 'Priya', 'Rafael',
  'Rosa', 'Sam', 'Sara', 'Sofia', 'Sven', 'Tariq', 'Thomas', 'Tomasz', 'Valentina', 'Wei', 'Yara', 'Yuki', 'Zoe',
] as const;

export const LAST_NAMES = [
  'Adams', 'Ahmed', 'Alvarez', 'Andersen', 'Bauer', 'Becker', 'Brown', 'Chen', 'Costa', 'Das', 'Dubois', 'Eriksson',
  'Fischer', 'Garcia', 'Gonzalez', 'Hansen', 'Hoffmann', 'Ivanova', 'Jansen', 'Jones', 'Kaur', 'Kim', 'Kowalski',
  'Larsen', 'Lee', 'Lopez', 'Martin', 'Meyer', 'Moreau', 'Muller', 'Nakamura', 'Nguyen', 'Novak', 'Okafor',
  'Olsen', 'Patel', 'Perez', 'Petrov', 'Popescu', 'Ramos', 'Rossi', 'Sato', 'Schmidt', 'Silva', 'Singh', 'Smith',
  'Suzuki', 'Tanaka', 'Taylor', 'Thompson', 'Wagner', 'Walker', 'Wang', 'Weber', 'Williams', 'Wilson', 'Wong',
  'Yilmaz', 'Young', 'Zhang',
] as const;

export const SHARED_MAILBOX_NAMES = [
  'Accounts Payable', 'Accounts Receivable', 'Customer Service', 'Facilities', 'Finance', 'HR', 'Info', 'IT Helpdesk',
  'Legal', 'Marketing', 'Orders', 'Payroll', 'Procurement', 'Reception', 'Recruiting', 'Sales', 'Security', 'Support',
] as const;

export const ROOM_NAMES = ['Atlas', 'Birch', 'Cedar', 'Delta', 'Everest', 'Fjord', 'Granite', 'Harbor', 'Iris', 'Juniper'] as const;

export const EQUIPMENT_NAMES = ['Projector', 'Pool Car', 'Camera Kit', 'Laptop Loaner', 'Van'] as const;

/** Mailboxes of machines and line-of-business apps: the typical SMTP AUTH (Basic) senders. */
export const DEVICE_MAILBOXES = [
  { alias: 'scanner', displayName: 'Scan to Email' },
  { alias: 'noreply-erp', displayName: 'ERP Notifications' },
  { alias: 'copier-hq', displayName: 'HQ Copier' },
  { alias: 'alerts-monitoring', displayName: 'Monitoring Alerts' },
  { alias: 'ups-notify', displayName: 'UPS Notifications' },
  { alias: 'crm-mailer', displayName: 'CRM Mailer' },
] as const;
